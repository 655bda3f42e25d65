import { ValidationError } from '@kepu/core';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';

export const MAX_PAGE_SIZE = 100;

export class PageQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: MAX_PAGE_SIZE, default: 20 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE_SIZE)
  limit?: number;

  @ApiPropertyOptional({ description: 'Opaque cursor from a previous page\'s nextCursor' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  cursor?: string;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** Keyset position: (createdAt, id), newest first. */
export interface KeysetPosition {
  at: Date;
  id: string;
  /** For lists in parts (urgent orders first): which part the position is in, 0–9. */
  rank?: number;
}

export function encodeCursor(position: KeysetPosition): string {
  const rank = position.rank === undefined ? '' : `|${position.rank}`;
  return Buffer.from(`${position.at.toISOString()}|${position.id}${rank}`, 'utf8').toString('base64url');
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function decodeCursor(cursor: string): KeysetPosition {
  const [at, id, rank, ...rest] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const date = new Date(at ?? '');
  if (!id || !UUID.test(id) || Number.isNaN(date.getTime()) || (rank !== undefined && !/^\d$/.test(rank)) || rest.length > 0)
    throw new ValidationError('cursor: is not a cursor this API issued', [{ field: 'cursor', message: 'invalid cursor' }]);
  return rank === undefined ? { at: date, id } : { at: date, id, rank: Number(rank) };
}

/** Builds a page from `limit + 1` rows fetched in keyset order. */
export function toPage<Row, Item>(rows: Row[], limit: number, position: (row: Row) => KeysetPosition, map: (row: Row) => Item): Page<Item> {
  const hasMore = rows.length > limit;
  const pageRows = hasMore ? rows.slice(0, limit) : rows;
  const last = pageRows[pageRows.length - 1];
  return { items: pageRows.map(map), nextCursor: hasMore && last ? encodeCursor(position(last)) : null };
}

/**
 * The page query of a list that was a whole array before it was paged (an
 * order's events, its team): the default page is the largest, so the answers of
 * ordinary orders stay whole; longer ones continue with X-Next-Cursor.
 */
export class HistoryPageQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: MAX_PAGE_SIZE, default: MAX_PAGE_SIZE })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE_SIZE)
  limit?: number;

  @ApiPropertyOptional({ maxLength: 200, pattern: '^[A-Za-z0-9_-]+$', description: 'Opaque cursor from the previous page\'s X-Next-Cursor header' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  @Matches(/^[A-Za-z0-9_-]+$/, { message: 'cursor must be a cursor this API issued' })
  cursor?: string;
}

/** Cursor of a list in ascending sequence numbers (an order's events). */
export function encodeSeqCursor(seq: number): string {
  return Buffer.from(`seq|${seq}`, 'utf8').toString('base64url');
}

export function decodeSeqCursor(cursor: string): number {
  const [tag, seq] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const n = Number(seq);
  if (tag !== 'seq' || !Number.isInteger(n) || n < 0 || n > 2_147_483_647)
    throw new ValidationError('cursor: is not a cursor this API issued', [{ field: 'cursor', message: 'invalid cursor' }]);
  return n;
}

/** Answers a page as a bare array, its next cursor (if any) in the X-Next-Cursor header. */
export function sendPage<T>(reply: { header(name: string, value: string): unknown }, page: Page<T>): T[] {
  if (page.nextCursor) reply.header('x-next-cursor', page.nextCursor);
  return page.items;
}
