import { Injectable, Logger } from '@nestjs/common';
import { AppConfig, InjectConfig } from '../../config/app.config';
import { AppError, unauthorized } from '../../common/errors/app-error';
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
    @InjectConfig() config: AppConfig,
  ) {
    this.name = config.auth.passwordProviderName;
  }

  assertKnown(provider: string): void {
    if (provider !== this.name) throw new AppError('NOT_FOUND', `No such authentication provider "${provider.slice(0, 64)}".`);
  }

  /** The user, or the one 401 every failure gets (unknown user, wrong password, disabled). */
  async login(username: string, password: string, client: { ip?: string | null; requestId?: string }): Promise<User> {
    const user = await this.users.authenticate(username, password);
    if (!user) {
      // No username in the log: people type passwords into the username field.
      this.logger.warn(`login failed (provider ${this.name}) ip=${client.ip ?? '-'} request=${client.requestId ?? '-'}`);
      const account = typeof username === 'string' && username.length <= 64 ? await this.users.findByUsername(username) : null;
      await this.loginAudit.failed(this.name, 'password', account && account.status !== 'active' ? 'account_disabled' : 'invalid_credentials', account);
      throw unauthorized('AUTH_INVALID_CREDENTIALS', 'Incorrect username or password');
    }
    this.logger.log(`login: user ${user.id} (provider ${this.name}) ip=${client.ip ?? '-'} request=${client.requestId ?? '-'}`);
    return user;
  }
}
