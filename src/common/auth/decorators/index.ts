export { AcceptPluginToken, OptionalAuth, Public, RequireScopes, Roles, SessionOnly, TiledCompatible } from './auth-metadata';
export { CurrentPrincipal } from './current-principal.decorator';
