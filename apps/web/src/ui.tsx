import { type InputHTMLAttributes, type ReactNode, useEffect, useId, useRef } from 'react';

export interface FieldProps {
  id: string;
  'aria-invalid': boolean;
  'aria-describedby': string | undefined;
}

/** A labelled control with its hint and its error beside it (announced, and tied to the control). */
export function Field({
  label,
  error,
  hint,
  children,
}: {
  label: string;
  error?: string | undefined;
  hint?: string | undefined;
  children: (props: FieldProps) => ReactNode;
}) {
  const id = useId();
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const describedBy = [hint ? hintId : '', error ? errorId : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children({ id, 'aria-invalid': Boolean(error), 'aria-describedby': describedBy })}
      {hint && (
        <small id={hintId} className="hint">
          {hint}
        </small>
      )}
      {error && (
        <small id={errorId} className="error" role="alert">
          {error}
        </small>
      )}
    </div>
  );
}

/** A Field holding an input: the input's own attributes go to it, the label, hint and error beside. */
export function InputField({
  label,
  error,
  hint,
  ...input
}: {
  label: string;
  error?: string | undefined;
  hint?: string | undefined;
} & Omit<InputHTMLAttributes<HTMLInputElement>, keyof FieldProps>) {
  return (
    <Field label={label} error={error} hint={hint}>
      {(props) => <input {...input} {...props} />}
    </Field>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className="empty">{children}</div>;
}

export function ErrorNote({ error }: { error: { message: string } | null | undefined }) {
  if (!error) return null;
  return (
    <p className="error" role="alert">
      {error.message}
    </p>
  );
}

/** A checkbox with its label beside it. */
export function Check({
  label,
  checked,
  onChange,
}: {
  label: ReactNode;
  checked: boolean;
  onChange: (checked: boolean) => void;
}) {
  return (
    <label className="check">
      <input type="checkbox" checked={checked} onChange={(e) => onChange(e.target.checked)} />
      {label}
    </label>
  );
}

/** A titled group of controls (a fieldset named by its heading). */
export function Group({ title, children }: { title: string; children: ReactNode }) {
  const id = useId();
  return (
    <fieldset aria-labelledby={id}>
      <h3 id={id}>{title}</h3>
      {children}
    </fieldset>
  );
}

/** The paging state of an infinite query, as much of it as LoadMore uses. */
export interface Pages {
  hasNextPage: boolean;
  isFetchingNextPage: boolean;
  fetchNextPage: () => Promise<unknown>;
}

/**
 * The end of a paged list: the next page loads when this comes into view (or with its button),
 * and once there is no more it says so.
 */
export function LoadMore({ pages, shown }: { pages: Pages; shown: number }) {
  const sentinel = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const node = sentinel.current;
    if (!node || typeof IntersectionObserver === 'undefined') return;
    const observer = new IntersectionObserver((seen) => {
      if (seen.some((item) => item.isIntersecting) && pages.hasNextPage && !pages.isFetchingNextPage) {
        void pages.fetchNextPage();
      }
    });
    observer.observe(node);
    return () => observer.disconnect();
  }, [pages]);
  return (
    <div ref={sentinel} className="sentinel">
      {pages.isFetchingNextPage ? (
        'Loading more…'
      ) : pages.hasNextPage ? (
        <button type="button" onClick={() => pages.fetchNextPage()}>
          Load more
        </button>
      ) : shown > 0 ? (
        <span className="muted">That is everything.</span>
      ) : null}
    </div>
  );
}
