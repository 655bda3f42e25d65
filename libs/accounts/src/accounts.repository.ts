import { type AuditContext, recordAudit } from '@kepu/auth';
import { rowsOf, Sql } from '@kepu/db';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { DepartmentView, OrganizationView } from './accounts.dto';

interface OrganizationRow {
  id: string;
  name: string;
  district_codes: string[];
}

interface DepartmentRow {
  id: string;
  name: string;
  district_code: string | null;
  topics: string[];
}

const toOrganizationView = (row: OrganizationRow): OrganizationView => ({ id: row.id, name: row.name, districtCodes: row.district_codes });
const toDepartmentView = (row: DepartmentRow): DepartmentView => ({ id: row.id, name: row.name, districtCode: row.district_code, topics: row.topics });

const DEPARTMENT_COLUMNS = 'id, name, district_code, topics';

const ORGANIZATION_SELECT = `
  SELECT o.id, o.name, coalesce(array_agg(od.district_code ORDER BY od.district_code) FILTER (WHERE od.district_code IS NOT NULL), '{}') AS district_codes
  FROM organizations o LEFT JOIN organization_districts od ON od.organization_id = o.id`;

/** Departments, organisations and the region facts that creating accounts checks. */
@Injectable()
export class AccountsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async districtOfCommunity(code: string): Promise<string | null> {
    const rows = await this.dataSource.query<{ district_code: string }[]>(`SELECT district_code FROM communities WHERE code = $1`, [code]);
    return rows[0]?.district_code ?? null;
  }

  async existingDistricts(codes: string[]): Promise<string[]> {
    const rows = await this.dataSource.query<{ code: string }[]>(`SELECT code FROM districts WHERE code = ANY($1)`, [codes]);
    return rows.map((r) => r.code);
  }

  async findDepartment(id: string): Promise<DepartmentView | null> {
    const sql = new Sql();
    const rows = await this.dataSource.query<DepartmentRow[]>(`SELECT ${DEPARTMENT_COLUMNS} FROM departments WHERE id = ${sql.param(id)}`, sql.params);
    return rows[0] ? toDepartmentView(rows[0]) : null;
  }

  async findOrganization(id: string): Promise<OrganizationView | null> {
    const rows = await this.dataSource.query<OrganizationRow[]>(`${ORGANIZATION_SELECT} WHERE o.id = $1 GROUP BY o.id`, [id]);
    return rows[0] ? toOrganizationView(rows[0]) : null;
  }

  /** The department and its audit entry, in one transaction. */
  async insertDepartment(name: string, districtCode: string | null, topics: string[], audit: AuditContext): Promise<DepartmentView> {
    return this.dataSource.transaction(async (manager) => {
      const sql = new Sql();
      const [row] = rowsOf<DepartmentRow>(
        await manager.query(
          `INSERT INTO departments (name, district_code, topics) VALUES (${sql.param(name)}, ${sql.param(districtCode)}, ${sql.param(topics)}) RETURNING ${DEPARTMENT_COLUMNS}`,
          sql.params,
        ),
      );
      if (!row) throw new Error('department insert returned no row');
      const department = toDepartmentView(row);
      await recordAudit(manager, audit, { action: 'department.created', targetType: 'department', targetId: department.id, summary: { name, districtCode, topics } });
      return department;
    });
  }

  /** The organisation, the districts it serves and the audit entry, in one transaction. */
  async insertOrganization(name: string, districtCodes: string[], audit: AuditContext): Promise<OrganizationView> {
    return this.dataSource.transaction(async (manager) => {
      const [row] = await manager.query<{ id: string }[]>(`INSERT INTO organizations (name) VALUES ($1) RETURNING id`, [name]);
      if (!row) throw new Error('organization insert returned no row');
      await manager.query(
        `INSERT INTO organization_districts (organization_id, district_code) SELECT $1, unnest($2::varchar[])`,
        [row.id, districtCodes],
      );
      await recordAudit(manager, audit, { action: 'organization.created', targetType: 'organization', targetId: row.id, summary: { name, districtCodes } });
      return { id: row.id, name, districtCodes: [...districtCodes].sort() };
    });
  }

  async listDepartments(districtCode?: string): Promise<DepartmentView[]> {
    const sql = new Sql();
    // A district's departments include the city-wide ones, which serve every district.
    const where = districtCode ? `WHERE district_code = ${sql.param(districtCode)} OR district_code IS NULL` : '';
    const rows = await this.dataSource.query<DepartmentRow[]>(`SELECT ${DEPARTMENT_COLUMNS} FROM departments ${where} ORDER BY name LIMIT 500`, sql.params);
    return rows.map(toDepartmentView);
  }

  async listOrganizations(districtCode?: string): Promise<OrganizationView[]> {
    const rows = districtCode
      ? await this.dataSource.query<OrganizationRow[]>(
          `${ORGANIZATION_SELECT} WHERE o.id IN (SELECT organization_id FROM organization_districts WHERE district_code = $1) GROUP BY o.id ORDER BY o.name LIMIT 500`,
          [districtCode],
        )
      : await this.dataSource.query<OrganizationRow[]>(`${ORGANIZATION_SELECT} GROUP BY o.id ORDER BY o.name LIMIT 500`);
    return rows.map(toOrganizationView);
  }
}
