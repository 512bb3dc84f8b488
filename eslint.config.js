// Type-aware lint (`make lint`, part of `make test`). Only rules that catch real bugs the compiler cannot:
// a promise nobody awaits or handles (its rejection is silently lost, or crashes the process as an
// unhandled rejection), and a promise handed to a place that ignores it (an event handler, a void
// callback, an `if`). Style is left to the code review.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'dist-*/**', 'node_modules/**', 'coverage/**', 'node/src/generated/**', '**/*.js', '**/*.mjs', '**/*.cjs'] },
  {
    files: ['**/*.ts'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@typescript-eslint': tseslint.plugin },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-this-alias': 'error',
    },
  },
);
