export * from './volunteers.module';
export * from './fulfilment.dto';
export * from './fulfilment.service';
export * from './volunteers.dto';
export * from './volunteers.service';
export * from './venues.dto';
export * from './venues.service';
export * from './candidates.service';
