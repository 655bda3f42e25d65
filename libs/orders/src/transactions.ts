import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';

/**
 * An open database transaction, handed from one library's service to another's so
 * that each owner writes its own tables in it. Services pass it on; only repositories
 * run queries on it.
 */
export type Transaction = EntityManager;

/** Opens the transaction a flow that spans libraries runs in (e.g. a schedule: order, event, outbox, booking, assignments). */
@Injectable()
export class Transactions {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  run<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }
}
