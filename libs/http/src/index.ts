export * from './pagination';
export * from './problem-details.filter';
export * from './validation.pipe';
export * from './uuid-param.pipe';
export * from './csv';
export * from './password.validator';
export * from './json-body';
