export { AcceptPluginToken, OptionalAuth, Public, RequireScopes, Roles } from './auth-metadata';
export { CurrentPrincipal } from './current-principal.decorator';
