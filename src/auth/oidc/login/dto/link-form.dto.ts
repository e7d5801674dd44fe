import { ApiProperty } from '../../../../common/http/api-docs';
import { IsString, MaxLength } from 'class-validator';
import { CsrfFormDto } from '../../../../common/html/csrf-form.dto';

/** The confirmation page's form: the CSRF field and the pending link, sealed. */
export class LinkConfirmFormDto extends CsrfFormDto {
  @ApiProperty({ description: 'The sealed pending link of the confirmation page (opaque).' })
  @IsString()
  @MaxLength(2048)
  link: string;
}
