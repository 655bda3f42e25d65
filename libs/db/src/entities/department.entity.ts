import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** 部门: takes orders (领单) in its district, or city-wide when `districtCode` is null. */
@Entity('departments')
export class DepartmentEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'text' })
  name: string;

  @Column({ name: 'district_code', type: 'varchar', length: 6, nullable: true })
  districtCode: string | null;

  @Column({ type: 'text', array: true, default: () => "'{}'" })
  topics: string[];

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
