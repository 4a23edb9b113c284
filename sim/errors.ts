/** An error the user caused (bad flag, missing file, bad value): one plain sentence, exit code 2. */
export class UsageError extends Error {}
