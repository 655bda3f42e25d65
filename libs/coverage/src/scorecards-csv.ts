import { toCsv } from '@kepu/http';
import type { ScorecardView } from './scorecards.dto';

export const SCORECARD_COLUMNS = [
  'id',
  'name',
  'received',
  'responded',
  'responseRate',
  'resolved',
  'resolutionRate',
  'rated',
  'averageRating',
  'satisfiedRate',
  'medianHoursToRespond',
] as const;

/** One row per department or organisation, the JSON fields as columns (an empty cell for null). */
export const scorecardsCsv = (rows: ScorecardView[]): string => toCsv(SCORECARD_COLUMNS, rows.map((row) => SCORECARD_COLUMNS.map((column) => row[column])));
