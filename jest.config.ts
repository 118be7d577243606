/** @jest-config-loader esbuild-register */
import type { Config } from 'jest';

/**
 * One Jest run for the whole suite. `@swc/jest` strips types only (the type check is `npm run
 * typecheck`), which keeps the suite fast on a two-core machine.
 */
const config: Config = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } } }],
  },
  moduleFileExtensions: ['ts', 'js', 'json'],
  testTimeout: 60_000,
};

export default config;
