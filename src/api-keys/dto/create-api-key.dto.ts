import { ApiProperty, ApiPropertyOptional } from '../../common/http/api-docs';
import {
  ArrayMaxSize,
  IsArray,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateBy,
  ValidateIf,
  type ValidationOptions,
} from 'class-validator';

/** The key must be in the body; `null` is a value (Tiled's APIKeyRequestParams). */
function IsPresent(options?: ValidationOptions) {
  return ValidateBy(
    {
      name: 'isPresent',
      validator: {
        validate: (_value, args) => !!args && Object.prototype.hasOwnProperty.call(args.object, args.property),
        defaultMessage: (args) => `${args?.property} must be present (null is allowed)`,
      },
    },
    options,
  );
}

const TEN_YEARS = 10 * 365 * 24 * 3600;

export class CreateApiKeyDto {
  @ApiProperty({ type: Number, nullable: true, description: 'Lifetime in seconds; null = never expires' })
  @IsPresent()
  @ValidateIf((o: CreateApiKeyDto) => o.expires_in !== null)
  @IsInt()
  @Min(1)
  @Max(TEN_YEARS)
  expires_in: number | null;

  @ApiProperty({ type: [String], nullable: true, description: 'null = ["inherit"]' })
  @IsPresent()
  @ValidateIf((o: CreateApiKeyDto) => o.scopes !== null)
  @IsArray()
  @ArrayMaxSize(64)
  @IsString({ each: true })
  @Matches(/^[a-z][a-z:_-]{0,63}$/, { each: true, message: 'each scope must look like "read:metadata"' })
  scopes: string[] | null;

  @ApiPropertyOptional({ type: String, nullable: true, maxLength: 255 })
  @IsOptional()
  @IsString()
  @MaxLength(255)
  note?: string | null;

  @ApiPropertyOptional({ type: [String], nullable: true })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(64)
  @IsString({ each: true })
  @MaxLength(255, { each: true })
  access_tags?: string[] | null;
}
