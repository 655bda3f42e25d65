export * from './data-source';
export * from './db.module';
export * from './entities';
export * from './migrations';
export * from './region-import';
export * from './region-import-progress';
export * from './database-setup';
export * from './sql';
