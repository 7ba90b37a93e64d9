// @vitest-environment happy-dom
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { useState } from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { heatColor } from '../src/screens/Analytics';
import { Field } from '../src/ui';

afterEach(cleanup);

function EmailForm() {
  const [value, setValue] = useState('');
  const error = value && !value.includes('@') ? 'must be an email address' : undefined;
  return (
    <Field label="Email" hint="We never share it." error={error}>
      {(props) => <input {...props} value={value} onChange={(e) => setValue(e.target.value)} />}
    </Field>
  );
}

describe('Field', () => {
  it('labels its control and ties the hint and the error to it', () => {
    render(<EmailForm />);
    const input = screen.getByLabelText('Email');
    expect(input.getAttribute('aria-invalid')).toBe('false');
    const hint = document.getElementById(input.getAttribute('aria-describedby')!);
    expect(hint?.textContent).toBe('We never share it.');

    fireEvent.change(input, { target: { value: 'nope' } });
    expect(input.getAttribute('aria-invalid')).toBe('true');
    const described = input
      .getAttribute('aria-describedby')!
      .split(' ')
      .map((id) => document.getElementById(id)?.textContent);
    expect(described).toEqual(['We never share it.', 'must be an email address']);
    expect(screen.getByRole('alert').textContent).toBe('must be an email address');

    fireEvent.change(input, { target: { value: 'a@b.c' } });
    expect(screen.queryByRole('alert')).toBeNull();
  });
});

describe('the heatmap colours', () => {
  it('go orange for positive, blue for negative, deeper for stronger, none when untested', () => {
    expect(heatColor(0.9)).toMatch(/^rgba\(234, 110, 40, 0\.8\d\)$/);
    expect(heatColor(-0.9)).toMatch(/^rgba\(50, 110, 220, 0\.8\d\)$/);
    expect(Number(/([\d.]+)\)$/.exec(heatColor(0.2))![1])).toBeLessThan(
      Number(/([\d.]+)\)$/.exec(heatColor(0.6))![1]),
    );
    expect(heatColor(undefined)).toBe('transparent');
    expect(heatColor(Number.NaN)).toBe('transparent');
  });
});
