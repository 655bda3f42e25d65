export * from './accounts.dto';
export * from './accounts.module';
export * from './accounts.service';
