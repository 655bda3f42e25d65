import { AUDIENCES, FORMATS, TOPICS } from '@kepu/core';
import { Injectable } from '@nestjs/common';
import type { CatalogEntryView, CatalogView } from './regions.dto';

const entries = (list: ReadonlyArray<{ code: string; name: string }>): CatalogEntryView[] =>
  list.map(({ code, name }) => ({ code, name }));

/** The topic, audience and format codes orders are made of (DESIGN.md §1). */
@Injectable()
export class CatalogService {
  getCatalog(): CatalogView {
    return { topics: entries(TOPICS), audiences: entries(AUDIENCES), formats: entries(FORMATS) };
  }
}
