export { AcceptPluginToken, OptionalAuth, Public, RequireScopes, Roles, TiledCompatible } from './auth-metadata';
export { CurrentPrincipal } from './current-principal.decorator';
