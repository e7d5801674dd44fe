export { AcceptPluginToken, OptionalAuth, Public, RecentLogin, RequireScopes, Roles, SessionOnly, TiledCompatible } from './auth-metadata';
export { AccessTags, CurrentPrincipal } from './current-principal.decorator';
