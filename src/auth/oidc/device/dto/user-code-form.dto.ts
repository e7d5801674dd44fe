import { IsOptional, IsString, MaxLength } from 'class-validator';

/** The form of the "Authorize the session" page. */
export class UserCodeFormDto {
  /** As typed: case, dashes and spaces do not matter. */
  @IsString()
  @MaxLength(64)
  user_code: string;

  /** The double-submit CSRF value (the `tiled_csrf` cookie); checked by the handler, so optional here. */
  @IsOptional()
  @IsString()
  @MaxLength(256)
  csrf?: string;
}
