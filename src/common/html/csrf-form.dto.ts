import { IsOptional, IsString, MaxLength } from 'class-validator';

/** A form of Latchkey's own pages: its CSRF token travels as the `csrf` field. */
export class CsrfFormDto {
  @IsOptional()
  @IsString()
  @MaxLength(128)
  csrf?: string;
}
