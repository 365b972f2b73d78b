import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseJson, parseWellFormed } from '../../app/parse-json.ts';

describe('parseWellFormed', () => {
  it('turns a lone surrogate, escaped or raw, into U+FFFD wherever it sits', () => {
    // Act
    const escaped = parseWellFormed('{"a":"x\\ud800y","b":["\\udfff"],"c":"\\uDC00"}');
    const raw = parseWellFormed(`{"a":"x${'\ud800'}y"}`);
    // Assess
    expect(escaped).toEqual({ a: 'x\ufffdy', b: ['\ufffd'], c: '\ufffd' });
    expect(raw).toEqual({ a: 'x\ufffdy' });
  });

  it('keeps surrogate pairs, escaped or raw, and an escaped backslash before "u" as they are', () => {
    // Act
    const pair = parseWellFormed('{"a":"\\ud83d\\ude80","b":"🚀"}');
    const literal = parseWellFormed('{"a":"C:\\\\udata"}');
    // Assess
    expect(pair).toEqual({ a: '🚀', b: '🚀' });
    expect(literal).toEqual({ a: 'C:\\udata' });
  });

  it('parses text with no surrogate escape as JSON.parse does', () => {
    // Act
    const text = '{"user":{"id":"U0ALICE"},"text":"🚀 shop → prod","n":[1,2.5,null,true]}';
    // Assess
    expect(parseWellFormed(text)).toEqual(JSON.parse(text));
  });

  it('refuses text that is not JSON as JSON.parse does', () => {
    expect(() => parseWellFormed('{"a":')).toThrow(SyntaxError);
  });
});

describe('parseJson', () => {
  it('names the wrong fields and never their values', () => {
    // Act
    const parsed = parseJson(z.object({ token: z.number(), name: z.string() }), '{"token":"xoxb-secret","name":"a"}');
    // Assess
    expect(parsed).toEqual({ ok: false, problem: 'bad or missing token' });
  });
});
