import { describe, expect, it } from 'vitest';
import { checkSentence, repeatsEarlier } from './output-check.js';

describe('output checks before speaking', () => {
  it('accepts ordinary empathic sentences', () => {
    for (const s of ['It sounds like that evening meant a lot to you.', 'What was going through your mind when she called?',
      'Mm, a whole week of night shifts.', "I'm an AI, so I can't know it the way you do, but it sounds exhausting."]) {
      expect(checkSentence(s), s).toBeUndefined();
    }
  });
  it.each([
    ['<|im_start|>assistant Hello.', 'template-token'],
    ['[INST] be nice [/INST]', 'template-token'],
    ['Assistant: I understand.', 'role-label'],
    ['**Reflection:** you feel sad.', 'markup'],
    ['- Reflect the feeling.', 'markup'],
    ['{"reply": "hello"}', 'markup'],
    ['See https://example.com for more.', 'markup'],
    ['§§§ ### 1234 5678 @@@@ !!!!', 'not-prose'],
    ['asdf9 qwe7r zx8cv 12ab 9k9k9.', 'not-prose'],
    ['I am so so so so sorry.', 'repetition'],
    ["I'm a real person and I know exactly how you feel.", 'claims-human'],
    ['When I was a kid my dog died too.', 'claims-human'],
  ])('rejects %s (%s)', (s, problem) => {
    expect(checkSentence(s)?.problem).toBe(problem);
  });
  it('catches a sentence said twice', () => {
    expect(repeatsEarlier('That sounds hard!', ['That sounds hard.'])).toBe(true);
    expect(repeatsEarlier('That sounds hard.', ['That sounds lonely.'])).toBe(false);
  });
});
