// ESLint flat config: recommended JS rules plus typescript-eslint's recommended set.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    // Plain JavaScript helpers run by Node: Node's globals.
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // src/migrations reaches the PostgreSQL sink through one module (src/sinks/postgres/ddl.ts),
    // the future sink dialect.
    files: ['src/migrations/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/sinks/postgres/*', '!**/sinks/postgres/ddl.js'], message: 'import the PostgreSQL sink through src/sinks/postgres/ddl.ts' }] },
      ],
    },
  },
);
