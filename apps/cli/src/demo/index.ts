export { DEMO_DISTRICTS, DEMO_PASSWORD } from './demo-data';
export { createDemoSeedContext, type DemoSeedContext, DemoSeedModule } from './demo.module';
export { type DemoSeedCount, type DemoSeedOptions, type DemoSeedProgress, type DemoSeedResult, seedDemo } from './demo-seed';
