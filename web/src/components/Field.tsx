import { useId, type InputHTMLAttributes, type ReactNode, type Ref } from 'react'

interface Props extends Omit<InputHTMLAttributes<HTMLInputElement>, 'id'> {
  label: ReactNode
  hint?: string
  error?: string
  /** Hide the label visually (it still names the input for screen readers and tests). */
  hideLabel?: boolean
  /** The input element (React 19 passes ref as a prop). */
  ref?: Ref<HTMLInputElement>
}

/** A labelled input whose hint and error are announced with it. */
export function Field({ label, hint, error, hideLabel, className, ref, ...input }: Props) {
  const id = useId()
  const hintId = hint ? `${id}-hint` : undefined
  const errorId = error ? `${id}-error` : undefined
  return (
    <div className={`field${error ? ' field-invalid' : ''}${className ? ` ${className}` : ''}`}>
      <label htmlFor={id} className={hideLabel ? 'visually-hidden' : undefined}>
        {label}
      </label>
      <input
        ref={ref}
        id={id}
        aria-invalid={error ? true : undefined}
        aria-describedby={[errorId, hintId].filter(Boolean).join(' ') || undefined}
        {...input}
      />
      {hint && !error && (
        <p id={hintId} className="hint">
          {hint}
        </p>
      )}
      {hint && error && (
        <p id={hintId} className="visually-hidden">
          {hint}
        </p>
      )}
      {error && (
        <p id={errorId} className="field-error" role="alert">
          {error}
        </p>
      )}
    </div>
  )
}
