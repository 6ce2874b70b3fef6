import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  {
    ignores: [
      'node_modules',
      'dist',
      '.cache',
      'data',
      'bench/node_modules',
      'test/fixtures',
      'schemas/json',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { ...globals.node },
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
    },
  },
  { files: ['daemon/**/*.ts'], rules: { 'no-console': 'error' } },
  { files: ['daemon/cli/**/*.ts', 'daemon/replay/cli.ts'], rules: { 'no-console': 'off' } },
  {
    files: ['**/*.mjs', '**/*.js', '**/*.cjs', 'examples/**'],
    ...tseslint.configs.disableTypeChecked,
  },
);
