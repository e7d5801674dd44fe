import { IntersectionType } from '../../common/http/api-docs';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min, MinLength, ValidateIf } from 'class-validator';
import { CsrfFormDto } from '../../common/html/csrf-form.dto';
import { LOCAL_PATH } from '../../common/http/local-path';
import { CreatePluginDto } from '../../plugins/dto/create-plugin.dto';
import { InviteMaintainerDto } from '../../plugins/dto/plugin-invitation.dto';
import { CreateTrustedPublisherDto } from '../../trusted-publishing/dto/trusted-publisher.dto';

/**
 * The forms of the pages, checked by the global validation pipe like every API body (unknown
 * fields are a 422). A form sends strings: numbers are converted here, and an empty choice
 * ("never") becomes null. Every form carries the double-submit `csrf` field.
 */
const TEN_YEARS = 10 * 365 * 24 * 3600;

/** '' → null, "3600" → 3600, anything else as sent (then refused by @IsInt). */
const toOptionalInt = ({ value }: { value: unknown }) =>
  value === '' || value === undefined || value === null ? null : typeof value === 'string' && /^\d{1,12}$/.test(value) ? Number(value) : value;

export class LoginQueryDto {
  @IsOptional()
  @IsString()
  @MaxLength(2048)
  @Matches(LOCAL_PATH, { message: 'next must be a local path such as /account' })
  next?: string;
}

export class LoginFormDto extends CsrfFormDto {
  @IsString()
  @MinLength(1, { message: 'Enter your username.' })
  @MaxLength(256)
  username: string;

  @IsString()
  @MinLength(1, { message: 'Enter your password.' })
  @MaxLength(4096)
  password: string;

  @IsOptional()
  @IsString()
  @MaxLength(2048)
  @Matches(LOCAL_PATH, { message: 'next must be a local path such as /account' })
  next?: string;
}

/** `/report-leak`: a token someone found, and where. */
export class ReportLeakFormDto extends CsrfFormDto {
  @IsString()
  @MinLength(1, { message: 'Paste the token you found.' })
  @MaxLength(1024)
  token: string;

  @IsOptional()
  @IsString()
  @MaxLength(2048)
  url?: string;
}

export class CreateApiKeyFormDto extends CsrfFormDto {
  @IsOptional()
  @IsString()
  @MaxLength(255)
  note?: string;

  /** Seconds; empty = never expires. */
  @Transform(toOptionalInt)
  @ValidateIf((o: CreateApiKeyFormDto) => o.expires_in !== null)
  @IsInt({ message: 'expires_in must be a number of seconds, or empty for "never"' })
  @Min(1)
  @Max(TEN_YEARS)
  expires_in: number | null = null;

  /** Checked scopes; none = all of mine (`inherit`). One box checked arrives as a string. */
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? [value] : value))
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(64)
  @IsString({ each: true })
  @Matches(/^[a-z][a-z:_-]{0,63}$/, { each: true, message: 'each scope must look like "read:metadata"' })
  scopes?: string[];
}

export class CreateDeployTokenFormDto extends CsrfFormDto {
  @IsString()
  @MinLength(1, { message: 'Describe the token (where it is used), e.g. "github action".' })
  @MaxLength(200)
  description: string;

  @Transform(toOptionalInt)
  @ValidateIf((o: CreateDeployTokenFormDto) => o.expires_in !== null)
  @IsInt({ message: 'expires_in must be a number of seconds, or empty for "never"' })
  @Min(1)
  @Max(100 * 365 * 24 * 3600)
  expires_in: number | null = null;
}

export class RenameDeployTokenFormDto extends CsrfFormDto {
  @IsString()
  @MinLength(1, { message: 'The description cannot be empty.' })
  @MaxLength(200)
  description: string;
}

export class RotateDeployTokenFormDto extends CsrfFormDto {
  @Transform(toOptionalInt)
  @IsInt({ message: 'overlap_seconds must be a number of seconds' })
  @Min(0)
  overlap_seconds: number;
}

/** `/plugins`'s "New plugin" form: the fields of `POST /api/v1/plugins`, checked the same way. */
export class CreatePluginFormDto extends IntersectionType(CreatePluginDto, CsrfFormDto) {}

/** The plugin page's "Invite a maintainer" form: a username, checked as by the API. */
export class InviteMaintainerFormDto extends IntersectionType(InviteMaintainerDto, CsrfFormDto) {}

/**
 * The plugin page's "Add a trusted publisher" form: the fields of `POST /api/v1/plugins/{package}/trusted-publishers`.
 * The optional environment and ref arrive empty when left blank (TrustedPublishingService reads '' as "any").
 */
export class AddTrustedPublisherFormDto extends IntersectionType(CreateTrustedPublisherDto, CsrfFormDto) {}

/** `?done=` after a form's redirect: which confirmation to show (fixed texts, never input). */
export class NoticeQueryDto {
  @IsOptional()
  @IsIn([
    'key-revoked',
    'session-revoked',
    'plugin-created',
    'token-renamed',
    'token-revoked',
    'user-disabled',
    'user-enabled',
    'user-revoked',
    'invited',
    'invitation-revoked',
    'invitation-accepted',
    'invitation-declined',
    'publisher-added',
    'publisher-removed',
  ])
  done?: string;
}

/** `/admin`: create a custom role or replace its scopes. */
export class SaveRoleFormDto extends CsrfFormDto {
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  name: string;

  /** Scope names separated by spaces or commas. */
  @IsString()
  @MinLength(1)
  @MaxLength(4000)
  scopes: string;

  @IsOptional()
  @IsString()
  @MaxLength(255)
  description?: string;
}
