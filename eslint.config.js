// ESLint flat config: recommended JS rules plus typescript-eslint's type-checked recommended set
// (https://typescript-eslint.io/getting-started/typed-linting): the rules that need the type
// checker, among them no-floating-promises, no-misused-promises and await-thenable, which catch
// a promise dropped where a method returns `Promise | undefined`. The TypeScript program comes
// from tsconfig.json through the project service.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
  },
  {
    // Plain JavaScript helpers run by Node: not in tsconfig.json, so no type-aware rules; Node's globals.
    files: ['**/*.mjs', '**/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
  {
    // Tests read rows of `pg` query results, which are `any` by design, and hand them to expect():
    // the no-unsafe-* rules would only ask for a row type per query there. Library code keeps them.
    files: ['**/*.test.ts', 'test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    rules: {
      // Off: it flags `async` methods that implement a Promise-returning interface without awaiting
      // (sinks, test doubles); dropping `async` there would turn a thrown error into a synchronous
      // throw. Dropped or misused promises are still caught by no-floating-promises,
      // no-misused-promises and await-thenable.
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Outside a kind's folder, a sink is reached through its dialect in the registry
    // (src/run/registry.ts); test/architecture.test.ts checks the same, and the pipeline's rules.
    files: ['src/migrations/**/*.ts', 'src/cli/**/*.ts', 'src/pipeline/**/*.ts', 'src/bench/**/*.ts', 'src/demo/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/sinks/postgres/*'], message: 'reach the PostgreSQL sink through its dialect (SINK_DIALECTS in src/run/registry.ts)' }] },
      ],
    },
  },
);
