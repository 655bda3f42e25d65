/**
 * The password rule for every account (POST /users, volunteer logins, the
 * bootstrap admin). Length beats complexity (NIST SP 800-63B), so the rule is
 * mostly length, plus refusing what attackers try first: the username and the
 * most common passwords.
 */
export const PASSWORD_MIN_LENGTH = 10;
export const PASSWORD_MAX_LENGTH = 200;
/** What must remain once the username is taken out: "admin12345" is the username plus a counter. */
const MIN_OTHER_CHARACTERS = 6;

/** Passwords of the common leaked lists that the length and letter+digit rules alone would let through. */
export const COMMON_PASSWORDS: ReadonlySet<string> = new Set([
  'password123', 'password1234', 'password12345', 'passw0rd123', 'p@ssw0rd123', 'p@ssword123', 'password1!',
  'qwerty12345', 'qwerty123456', 'qwertyuiop1', 'qwertyuiop123', '1q2w3e4r5t', '1q2w3e4r5t6y', '1qaz2wsx3edc',
  'zaq12wsxcde3', 'abc1234567', 'abcd123456', 'abc123456789', 'a123456789', 'aa123456789', 'qq123456789',
  'asdf123456', 'zxcvbnm123', 'iloveyou123', 'woaini1314', 'woaini520', 'admin12345', 'admin123456', 'administrator1',
  'changeme123', 'welcome123', 'letmein123', 'kepu123456', 'beijing123', 'beijing2008', 'china12345',
]);

/** The rules the password breaks, as messages for the `password` field; empty when it is acceptable. */
export function passwordPolicyViolations(password: string, username?: string): string[] {
  const problems: string[] = [];
  if (password.length < PASSWORD_MIN_LENGTH) problems.push(`password must be at least ${PASSWORD_MIN_LENGTH} characters`);
  if (password.length > PASSWORD_MAX_LENGTH) problems.push(`password must be at most ${PASSWORD_MAX_LENGTH} characters`);
  if (!/\p{L}/u.test(password) || !/\p{N}/u.test(password)) problems.push('password must contain a letter and a digit');
  const lower = password.toLowerCase();
  const name = username?.trim().toLowerCase() ?? '';
  if (name.length > 0 && lower.split(name).join('').length < MIN_OTHER_CHARACTERS)
    problems.push(`password must not be the username, nor the username with fewer than ${MIN_OTHER_CHARACTERS} other characters`);
  if (COMMON_PASSWORDS.has(lower)) problems.push('password is one of the most common passwords');
  return problems;
}
