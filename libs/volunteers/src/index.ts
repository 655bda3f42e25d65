export * from './volunteers.module';
export * from './fulfilment.dto';
export * from './fulfilment.service';
