export * from './events.dto';
export * from './events.module';
export * from './events.service';
