import { ApiProperty } from '@nestjs/swagger';

/** 区 with the size of what it contains. */
export class DistrictView {
  @ApiProperty({ example: '110108', pattern: '^\\d{6}$' }) code: string;
  @ApiProperty({ example: '海淀区' }) name: string;
  @ApiProperty({ type: 'integer', example: 29 }) subdistrictCount: number;
  @ApiProperty({ type: 'integer', example: 678 }) communityCount: number;
}

/** 街道 / 乡镇. */
export class SubdistrictView {
  @ApiProperty({ example: '110108001', pattern: '^\\d{9}$' }) code: string;
  @ApiProperty({ example: '万寿路街道' }) name: string;
  @ApiProperty({ example: '110108' }) districtCode: string;
  @ApiProperty({ type: 'integer', example: 27 }) communityCount: number;
}

/** 社区居委会 / 村委会. */
export class CommunityView {
  @ApiProperty({ example: '110108001001', pattern: '^\\d{12}$' }) code: string;
  @ApiProperty({ example: '翠微路社区居委会' }) name: string;
  @ApiProperty({ example: '110108001' }) subdistrictCode: string;
  @ApiProperty({ example: '110108' }) districtCode: string;
}

export class CatalogEntryView {
  @ApiProperty({ example: 'anti_fraud' }) code: string;
  @ApiProperty({ example: '防范电信诈骗' }) name: string;
}

/** The codes orders use for topic, audience and format. */
export class CatalogView {
  @ApiProperty({ type: [CatalogEntryView] }) topics: CatalogEntryView[];
  @ApiProperty({ type: [CatalogEntryView] }) audiences: CatalogEntryView[];
  @ApiProperty({ type: [CatalogEntryView] }) formats: CatalogEntryView[];
}
