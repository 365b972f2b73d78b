import { describe, expect, it } from 'vitest';
import { clip } from '../../../app/core/text.ts';

describe('clip', () => {
  it('leaves text within the limit as it is', () => {
    // Act + Assess
    expect(clip('Approved by Alice', 17)).toBe('Approved by Alice');
  });

  it('cuts longer text to the limit, ending in an ellipsis', () => {
    // Act
    const clipped = clip('Approved by Alice', 10);
    // Assess
    expect(clipped).toBe('Approved …');
    expect(clipped).toHaveLength(10);
  });

  it('drops an emoji whole instead of leaving half of its surrogate pair at the edge', () => {
    // Prepare: the 🚀 occupies UTF-16 units 8 and 9
    const text = 'Shipped 🚀 to prod';
    // Act
    const clipped = clip(text, 10);
    // Assess
    expect(clipped).toBe('Shipped …');
    expect(clipped).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
  });
});
