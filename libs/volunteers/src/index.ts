export * from './volunteers.module';
