/**
 * The confirmation every action goes through: a modal dialog that says what will happen, with the reason field an
 * abort needs. The native <dialog> gives focus trapping and Escape for free.
 */
import { useEffect, useRef, useState } from 'preact/hooks';

export interface ConfirmRequest {
  title: string;
  /** What will happen, in a sentence naming the target. */
  effect: string;
  confirmLabel: string;
  danger?: boolean;
  /** Ask for a reason (required when true). */
  reason?: 'optional' | 'required';
  run: (reason: string) => Promise<void>;
}

export function ConfirmDialog(props: { request: ConfirmRequest | null; onClose: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const { request } = props;

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (request && !dialog.open) {
      setReason('');
      dialog.showModal();
    } else if (!request && dialog.open) dialog.close();
  }, [request]);

  const submit = async (event: Event) => {
    event.preventDefault();
    if (!request) return;
    setBusy(true);
    try {
      await request.run(reason.trim());
    } finally {
      setBusy(false);
      props.onClose();
    }
  };

  return (
    <dialog ref={ref} aria-labelledby="confirm-title" onClose={props.onClose} onCancel={props.onClose}>
      {request && (
        <form method="dialog" onSubmit={submit}>
          <h2 id="confirm-title">{request.title}</h2>
          <p>{request.effect}</p>
          {request.reason && (
            <label class="field">
              Reason{request.reason === 'required' ? '' : ' (optional)'}
              <textarea
                value={reason}
                required={request.reason === 'required'}
                maxLength={1000}
                onInput={(e) => setReason((e.target as HTMLTextAreaElement).value)}
              />
            </label>
          )}
          <div class="buttons">
            <button type="button" onClick={props.onClose}>
              Cancel
            </button>
            <button type="submit" class={request.danger ? 'danger' : 'primary'} disabled={busy}>
              {request.confirmLabel}
            </button>
          </div>
        </form>
      )}
    </dialog>
  );
}
