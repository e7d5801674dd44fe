export { AcceptPluginToken, OptionalAuth, Public, RecentLogin, RequireScopes, Roles, SessionOnly, TiledCompatible } from './auth-metadata';
export { CurrentPrincipal } from './current-principal.decorator';
