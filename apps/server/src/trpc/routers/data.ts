import {
  type ExportedDocument,
  exportInput,
  exportResult,
  importInput,
  importReport,
} from '@lifexp/contracts';
import { DomainError, exportStream, importDocument } from '@lifexp/db';
import { dataProcedure, protectedProcedure, router } from '../init';

/** Exports over tRPC are answered in one piece; bigger ones belong to the streaming HTTP route. */
const TRPC_EXPORT_MAX_BYTES = 8 * 1024 * 1024;

export const dataRouter = router({
  /** The user's data as a JSON document or CSV text (for large exports: GET /api/analytics/export). */
  export: protectedProcedure
    .meta({
      openapi: {
        method: 'GET',
        path: '/api/data/export',
        summary: 'All of the user’s data in one answer (JSON document or CSV text)',
        tags: ['data'],
      },
    })
    .input(exportInput)
    .output(exportResult)
    .query(async ({ ctx, input }) => {
      const chunks: string[] = [];
      let size = 0;
      const stream = exportStream(ctx.db, ctx.auth.user.id, input);
      for await (const chunk of stream.chunks) {
        size += chunk.length;
        if (size > TRPC_EXPORT_MAX_BYTES) {
          throw new DomainError(
            'PAYLOAD_TOO_LARGE',
            'the export is too large for one answer: use GET /api/analytics/export',
          );
        }
        chunks.push(chunk);
      }
      const content = chunks.join('');
      const filename = stream.filename;
      return input.format === 'json'
        ? { format: 'json' as const, filename, content: JSON.parse(content) as ExportedDocument }
        : { format: 'csv' as const, filename, content };
    }),

  /** Imports a JSON document: checked whole first, then written atomically (or only reported: dryRun). */
  import: dataProcedure
    .input(importInput)
    .output(importReport)
    .mutation(({ ctx, input }) =>
      importDocument(ctx.db, ctx.auth.user.id, input.document, {
        dryRun: input.dryRun,
        onConflict: input.onConflict,
        clientMutationId: input.clientMutationId,
      }),
    ),
});
