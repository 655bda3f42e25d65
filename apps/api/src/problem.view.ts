import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

class FieldErrorView {
  @ApiProperty() field: string;
  @ApiProperty() message: string;
}

/** RFC 9457 problem details, the body of every error (Content-Type: application/problem+json). */
export class ProblemView {
  @ApiProperty() type: string;
  @ApiProperty() title: string;
  @ApiProperty() status: number;
  @ApiProperty() detail: string;
  @ApiProperty({ example: 'VALIDATION_FAILED' }) code: string;
  @ApiPropertyOptional({ type: [FieldErrorView] }) errors?: FieldErrorView[];
}
