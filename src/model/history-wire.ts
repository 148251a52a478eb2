/** The JSON of an app's history and of an undo, as TypeBox schemas shared by the API and the CLI. */
import { Type, type Static } from 'typebox';
import { Nullable, PhaseSchema, RolloutStatusSchema } from './wire.ts';

export const HistoryItemSchema = Type.Object({
  revision: Type.Integer({ minimum: 1, description: "the rollout's number in the app's history, 1 for the first; `undo --to-revision` takes it" }),
  id: Type.String({ format: 'uuid' }),
  version: Nullable(Type.String()),
  image: Nullable(Type.String()),
  outcome: PhaseSchema,
  reason: Nullable(Type.String()),
  createdBy: Type.String({ description: 'who started it' }),
  createdAt: Type.String({ format: 'date-time' }),
  finishedAt: Nullable(Type.String({ format: 'date-time' })),
});
export type HistoryItem = Static<typeof HistoryItemSchema>;

export const HistorySchema = Type.Object({ app: Type.String(), items: Type.Array(HistoryItemSchema) });
export type History = Static<typeof HistorySchema>;

export const UndoResultSchema = Type.Object({
  from: HistoryItemSchema,
  rollout: RolloutStatusSchema,
});
export type UndoResult = Static<typeof UndoResultSchema>;
