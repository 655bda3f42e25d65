import type { NotificationFacts } from './notification-rules';

/** Characters of one fact written by a user (an order's title, a reason, a name) in an SMS. */
export const SMS_FACT_MAX_LENGTH = 40;
/** Characters of a whole SMS text: at most three concatenated 67-character UCS-2 segments. */
export const SMS_TEXT_MAX_LENGTH = 200;
/** What stands where a link was. */
export const SMS_LINK_PLACEHOLDER = '[链接]';

const DOT = '[.。．｡]';
const LABEL = '[a-z0-9_-]+';
/**
 * Anything a phone would make a link of, or a reader would type into a browser:
 * a scheme (`http://`, `weixin://`, `mailto:`…), `www.`, or a host name (labels
 * joined by dots, ASCII or full-width, ending in a 2+ letter top-level domain),
 * with whatever path follows; also a bare IPv4 address.
 */
/** The rest of a link: up to a space or CJK text and punctuation (a link inside a Chinese sentence ends where the sentence goes on). */
const TAIL = '[^\\s\\u3000-\\u303f\\u4e00-\\u9fff\\uff00-\\uffef]*';
const LINK = new RegExp(
  [
    `(?:\\b[a-z][a-z0-9+.-]{1,20}:\\/\\/|\\b(?:mailto|tel|sms|javascript|data):)${TAIL}`,
    `www${DOT}${TAIL}`,
    `(?:${LABEL}${DOT})+[a-z]{2,}(?![a-z0-9_-])(?:[:/?#\\\\]\\S*)?`,
    `\\b\\d{1,3}(?:${DOT}\\d{1,3}){3}\\b(?:[:/?#]\\S*)?`,
  ].join('|'),
  'giu',
);
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]/g;

/** Full-width letters, digits and `．／：` as ASCII; other full-width punctuation（，：）stays. */
function foldFullWidth(text: string): string {
  return text.replace(/[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a\uff0e\uff0f\uff1a]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0));
}

function bounded(text: string, max: number): string {
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

/**
 * A text as an SMS may carry it: no links (replaced by [链接]), no control or
 * invisible characters, one line, at most `max` characters (cut with …).
 * `normalize` folds full-width letters and dots first (ｗｗｗ．ｅｘａｍｐｌｅ．ｃｏｍ), for
 * text written by users; the rules' own texts keep their full-width punctuation.
 */
export function smsSafe(text: string, max = SMS_TEXT_MAX_LENGTH, normalize = false): string {
  const clean = (normalize ? foldFullWidth(text) : text).replace(CONTROL, ' ').replace(LINK, SMS_LINK_PLACEHOLDER).replace(/\s+/g, ' ').trim();
  return bounded(clean, max);
}

/** The facts of a notification with every user-written one made SMS-safe and short, for rendering an SMS. */
export function smsFacts(facts: NotificationFacts): NotificationFacts {
  const fact = (value: string) => smsSafe(value, SMS_FACT_MAX_LENGTH, true);
  return {
    ...facts,
    orderTitle: fact(facts.orderTitle),
    reason: facts.reason == null ? facts.reason : fact(facts.reason),
    text: Object.fromEntries(Object.entries(facts.text).map(([key, value]) => [key, fact(value)])),
  };
}
