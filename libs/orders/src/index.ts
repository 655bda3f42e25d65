export * from './idempotency.service';
export * from './order.view';
export * from './orders.dto';
export * from './orders.module';
export * from './orders.repository';
export * from './orders.service';
