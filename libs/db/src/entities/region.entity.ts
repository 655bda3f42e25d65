import { Column, Entity, PrimaryColumn } from 'typeorm';

/** 区: NBS 6-digit code. */
@Entity('districts')
export class DistrictEntity {
  @PrimaryColumn({ type: 'varchar', length: 6 })
  code: string;

  @Column({ type: 'text' })
  name: string;

  @Column({ name: 'province_code', type: 'varchar', length: 2 })
  provinceCode: string;
}

/** 街道 / 乡镇: 9-digit code. */
@Entity('subdistricts')
export class SubdistrictEntity {
  @PrimaryColumn({ type: 'varchar', length: 9 })
  code: string;

  @Column({ type: 'text' })
  name: string;

  @Column({ name: 'district_code', type: 'varchar', length: 6 })
  districtCode: string;
}

/** 社区居委会 / 村委会: 12-digit code. */
@Entity('communities')
export class CommunityEntity {
  @PrimaryColumn({ type: 'varchar', length: 12 })
  code: string;

  @Column({ type: 'text' })
  name: string;

  @Column({ name: 'subdistrict_code', type: 'varchar', length: 9 })
  subdistrictCode: string;

  @Column({ name: 'district_code', type: 'varchar', length: 6 })
  districtCode: string;
}
