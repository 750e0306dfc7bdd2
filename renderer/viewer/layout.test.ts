import { describe, expect, it } from 'vitest';
import { fitRect } from './layout';

describe('fitRect', () => {
  it('fits a tall image to the height and centres it', () => {
    expect(fitRect(1000, 500, 200, 400)).toEqual({ x: 375, y: 0, width: 250, height: 500 });
  });

  it('fits a wide image to the width', () => {
    expect(fitRect(400, 400, 800, 200)).toEqual({ x: 0, y: 150, width: 400, height: 100 });
  });

  it('honours non-square pixels (row spacing twice the column spacing)', () => {
    expect(fitRect(400, 400, 100, 100, 2)).toEqual({ x: 100, y: 0, width: 200, height: 400 });
  });
});
