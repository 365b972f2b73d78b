import { PipelineGoneError } from './errors.ts';
import { mapLimit } from './map-limit.ts';
import { pendingApprovalIn, type Revision, type StageSnapshot } from './pipeline.ts';
import type { PipelineReader } from './ports.ts';
import type { Product } from './products.ts';

/**
 * A product's board (the table of docs/concepts.md's worked example): for every service pipeline, which revision is in which
 * stage and how it stands there. Used by `/release <product> status` and the daily digest.
 */
export type BoardCellState =
  | 'none'
  | 'in-progress'
  | 'awaiting-approval'
  | 'succeeded'
  | 'failed'
  | 'stopped'
  | 'skipped';

export interface BoardCell {
  stageName: string;
  state: BoardCellState;
  /** The revision of the latest execution in the stage. */
  revision?: Revision;
  /** When the stage last changed (for `awaiting-approval`: when the approval started waiting). */
  since?: Date;
  /** A newer revision waiting at the stage's inbound transition. */
  waiting?: Revision;
}

export interface BoardRow {
  pipelineName: string;
  /** The pipeline's name without the product prefix (`shop-cart` → `cart`). */
  service: string;
  cells: BoardCell[];
  /** Why the pipeline could not be read; `cells` is empty then. */
  problem?: string;
}

export interface ProductBoard {
  product: Product;
  /** Stage names in pipeline order (the union over every pipeline). */
  stages: string[];
  rows: BoardRow[];
}

export interface BoardOptions {
  /** The product's pipelines when the caller has listed them already. */
  pipelines?: readonly string[];
  /** Pipelines read at once (default 8). */
  concurrency?: number;
}

export async function productBoard(
  reader: PipelineReader,
  product: Product,
  options: BoardOptions = {},
): Promise<ProductBoard> {
  const pipelines = options.pipelines ?? (await reader.listPipelines(product.prefix));
  const rows = await mapLimit(pipelines, options.concurrency ?? 8, async (pipelineName): Promise<BoardRow> => {
    const service = pipelineName.startsWith(product.prefix) ? pipelineName.slice(product.prefix.length) : pipelineName;
    try {
      const snapshot = await reader.snapshot(pipelineName);
      return { pipelineName, service, cells: snapshot.stages.map(cellOf) };
    } catch (error) {
      const problem =
        error instanceof PipelineGoneError ? 'the pipeline no longer exists' : 'CodePipeline did not answer';
      return { pipelineName, service, cells: [], problem };
    }
  });
  return { product, stages: stageOrder(rows), rows };
}

export function cellOf(stage: StageSnapshot): BoardCell {
  const latest = stage.latest;
  const approval = pendingApprovalIn(stage);
  const changes = stage.actions.map((action) => action.lastChange?.getTime() ?? 0).filter((time) => time > 0);
  const since = approval?.lastChange ?? (changes.length > 0 ? new Date(Math.max(...changes)) : undefined);
  return {
    stageName: stage.name,
    state: stateOf(stage, Boolean(approval)),
    ...(latest?.revision ? { revision: latest.revision } : {}),
    ...(since ? { since } : {}),
    ...(stage.inbound?.revision ? { waiting: stage.inbound.revision } : {}),
  };
}

/**
 * How the stage stands for its latest execution. `Stopping` is `stopped` even while an approval still
 * waits in it: a stopping execution finishes its in-progress actions but starts nothing after them,
 * so approving no longer moves the revision on. `Cancelled` (the pipeline was updated mid-run) is
 * `stopped` too; `Superseded` never describes a stage, but would read the same.
 */
function stateOf(stage: StageSnapshot, awaitingApproval: boolean): BoardCellState {
  const status = stage.latest?.status;
  switch (status) {
    case undefined:
      return 'none';
    case 'InProgress':
      return awaitingApproval ? 'awaiting-approval' : 'in-progress';
    case 'Succeeded':
      return 'succeeded';
    case 'Failed':
      return 'failed';
    case 'Skipped':
      return 'skipped';
    case 'Stopping':
    case 'Stopped':
    case 'Cancelled':
    case 'Superseded':
      return 'stopped';
    default:
      return unknownStatus(status);
  }
}

/** A status the SDK may add later: shown as stopped rather than as success or failure. */
const unknownStatus = (_status: never): BoardCellState => 'stopped';

function stageOrder(rows: readonly BoardRow[]): string[] {
  const order: string[] = [];
  for (const row of rows) {
    for (const [index, cell] of row.cells.entries()) {
      if (order.includes(cell.stageName)) continue;
      // After the stage it follows in this pipeline, so pipelines with extra stages keep their order.
      const previous = row.cells[index - 1]?.stageName;
      const at = previous === undefined ? 0 : order.indexOf(previous) + 1;
      order.splice(at, 0, cell.stageName);
    }
  }
  return order;
}

/** One place's board of a product that lives in several (PRODUCTS `targets`, or envs in other accounts). */
export interface PlacedBoard {
  /** How the place is named beside each service: its region, or account and region. */
  label: string;
  board: ProductBoard;
}

/**
 * One board of a product from its boards in several places: each service named with its place
 * (`cart · us-east-1`), since each place may have its own `shop-cart`; stages in the order every
 * place's pipelines give. One place's board is returned as it is.
 */
export function mergeBoards(boards: readonly PlacedBoard[]): ProductBoard | undefined {
  const [first, ...rest] = boards;
  if (!first) return undefined;
  if (rest.length === 0) return first.board;
  const rows = boards.flatMap(({ label, board }) =>
    board.rows.map((row) => ({ ...row, service: `${row.service || row.pipelineName} · ${label}` })),
  );
  return { product: first.board.product, stages: stageOrder(rows), rows };
}
