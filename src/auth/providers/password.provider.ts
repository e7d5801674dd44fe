import { Injectable, Logger } from '@nestjs/common';
import { AppConfig, InjectConfig } from '../../config/app.config';
import { AppError, unauthorized } from '../../common/errors/app-error';
import { LoginThrottle } from '../../common/rate-limit/login-throttle';
import type { User } from '../../users/user.entity';
import { UsersService } from '../../users/users.service';
import { LoginAudit } from '../login-audit';

/**
 * The internal (username + password) provider. Its name (PASSWORD_PROVIDER_NAME) is what the
 * handshake lists and what `/auth/provider/{name}/token` answers to.
 */
@Injectable()
export class PasswordProvider {
  private readonly logger = new Logger(PasswordProvider.name);
  readonly name: string;

  constructor(
    private readonly users: UsersService,
    private readonly loginAudit: LoginAudit,
    private readonly throttle: LoginThrottle,
    @InjectConfig() config: AppConfig,
  ) {
    this.name = config.auth.passwordProviderName;
  }

  assertKnown(provider: string): void {
    if (provider !== this.name) throw new AppError('NOT_FOUND', `No such authentication provider "${provider.slice(0, 64)}".`);
  }

  /**
   * The user, or the one 401 every failure gets (unknown user, wrong password, disabled). Before
   * any hashing, the username's attempt budget and failed-login delay apply (429), keyed by the
   * name as typed so that unknown names are treated exactly like existing ones.
   */
  async login(username: string, password: string, client: { ip?: string | null; requestId?: string }): Promise<User> {
    const name = UsersService.normalizeUsername(String(username));
    await this.throttle.admit(name);
    const user = await this.users.authenticate(username, password);
    if (!user) {
      await this.throttle.failed(name);
      // No username in the log: people type passwords into the username field.
      this.logger.warn(`login failed (provider ${this.name}) ip=${client.ip ?? '-'} request=${client.requestId ?? '-'}`);
      const account = typeof username === 'string' && username.length <= 64 ? await this.users.findByUsername(username) : null;
      await this.loginAudit.failed(this.name, 'password', account && account.status !== 'active' ? 'account_disabled' : 'invalid_credentials', account);
      throw unauthorized('AUTH_INVALID_CREDENTIALS', 'Incorrect username or password');
    }
    await this.throttle.succeeded(name);
    this.logger.log(`login: user ${user.id} (provider ${this.name}) ip=${client.ip ?? '-'} request=${client.requestId ?? '-'}`);
    return user;
  }
}
