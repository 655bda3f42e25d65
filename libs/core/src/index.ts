export * from './roles';
export * from './catalog';
export * from './errors';
export * from './order-lifecycle';
export * from './phone';
export * from './time-window';
export * from './duplicates';
