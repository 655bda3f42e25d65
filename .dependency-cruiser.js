// The dependency rules of the README's "Dependency rules", checked by `npm run lint:deps`
// (part of `npm test`). test/dependency-rules.spec.ts proves each rule fires on the
// planted violations in test/fixtures/dependency-rules, which this check skips.

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'core-imports-nothing-of-ours',
      comment: 'libs/core holds the pure rules: no other library, no app.',
      severity: 'error',
      from: { path: '^libs/core/' },
      to: { path: '^(libs/(?!core/)|apps/)' },
    },
    {
      name: 'core-without-frameworks',
      comment: 'libs/core runs without NestJS, TypeORM, PostgreSQL or the queues, so it is tested in milliseconds.',
      severity: 'error',
      from: { path: '^libs/core/' },
      to: { path: '(^|/)node_modules/(@nestjs/|typeorm/|pg/|pg-[^/]+/|bullmq/|ioredis/)' },
    },
    {
      name: 'no-circular',
      comment: 'One direction of dependency: no cycle among our modules.',
      severity: 'error',
      from: { path: '^(apps|libs)/' },
      to: { circular: true },
    },
    {
      name: 'no-deep-kepu-import',
      comment: 'Import a library by its barrel, @kepu/x, never @kepu/x/some-file (resolved through the tsconfig paths).',
      severity: 'error',
      from: {},
      to: { dependencyTypes: ['aliased-tsconfig-paths'], pathNot: '^libs/[^/]+/src/index\\.ts$' },
    },
    {
      name: 'no-deep-relative-library-import-from-apps',
      comment: 'An app reaches a library through its barrel, not by a relative path into its files.',
      severity: 'error',
      from: { path: '^apps/' },
      to: { path: '^libs/', pathNot: '^libs/[^/]+/src/index\\.ts$' },
    },
    {
      name: 'no-deep-relative-library-import-between-libs',
      comment: 'Another library is reached through its barrel, not by a relative path into its files.',
      severity: 'error',
      from: { path: '^libs/([^/]+)/' },
      to: { path: '^libs/', pathNot: ['^libs/$1/', '^libs/[^/]+/src/index\\.ts$'] },
    },
    {
      name: 'libs-never-import-apps',
      comment: 'Apps compose libraries; a library never reaches back into an app.',
      severity: 'error',
      from: { path: '^libs/' },
      to: { path: '^apps/' },
    },
    {
      name: 'db-imports-only-config',
      comment: 'libs/db is the data source, migrations and the Sql builder: of ours it imports only @kepu/config.',
      severity: 'error',
      from: { path: '^libs/db/' },
      to: { path: '^(libs/(?!db/|config/)|apps/)' },
    },
    {
      name: 'production-code-never-imports-tests-or-benches',
      comment: 'test/ and bench/ are not built; apps and libs must not depend on them.',
      severity: 'error',
      from: { path: '^(apps|libs)/' },
      to: { path: '^(test|bench)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['^dist/', '^test/fixtures/'] },
    tsConfig: { fileName: 'tsconfig.json' },
    // Type-only imports count: they tie libraries together as much as value imports do.
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};
