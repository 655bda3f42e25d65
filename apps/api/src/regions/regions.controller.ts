import { RegionCodeParamPipe } from '@kepu/http';
import { CommunityView, DistrictView, RegionsService, SubdistrictView } from '@kepu/regions';
import { Controller, Get, Param } from '@nestjs/common';
import { ApiBadRequestResponse, ApiBearerAuth, ApiNotFoundResponse, ApiOkResponse, ApiParam, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';

@ApiTags('regions')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: 'UNAUTHENTICATED' })
@Controller('regions')
export class RegionsController {
  constructor(private readonly regions: RegionsService) {}

  @Get('districts')
  @ApiOkResponse({ type: [DistrictView], description: 'The districts of the configured province (16 for Beijing), by code' })
  listDistricts(): Promise<DistrictView[]> {
    return this.regions.listDistricts();
  }

  @Get('districts/:code/subdistricts')
  @ApiParam({ name: 'code', example: '110108', description: '6-digit district code', schema: new RegionCodeParamPipe(6).openApiSchema })
  @ApiOkResponse({ type: [SubdistrictView], description: 'The subdistricts (街道/乡镇) of the district, by code' })
  @ApiBadRequestResponse({ description: 'VALIDATION_FAILED: not a 6-digit code' })
  @ApiNotFoundResponse({ description: 'NOT_FOUND: no such district' })
  listSubdistricts(@Param('code', new RegionCodeParamPipe(6)) code: string): Promise<SubdistrictView[]> {
    return this.regions.listSubdistricts(code);
  }

  @Get('subdistricts/:code/communities')
  @ApiParam({ name: 'code', example: '110108001', description: '9-digit subdistrict code', schema: new RegionCodeParamPipe(9).openApiSchema })
  @ApiOkResponse({ type: [CommunityView], description: 'The communities (社区/村) of the subdistrict, by code' })
  @ApiBadRequestResponse({ description: 'VALIDATION_FAILED: not a 9-digit code' })
  @ApiNotFoundResponse({ description: 'NOT_FOUND: no such subdistrict' })
  listCommunities(@Param('code', new RegionCodeParamPipe(9)) code: string): Promise<CommunityView[]> {
    return this.regions.listCommunities(code);
  }
}
