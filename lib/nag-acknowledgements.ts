/**
 * Acknowledging cdk-nag AwsSolutions findings precisely: one finding at a time, each with its reason,
 * on the construct it concerns (cdk-nag 3 matches acknowledgements by exact finding id).
 */
import { Stack, Validations } from 'aws-cdk-lib';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference';
import type { IConstruct } from 'constructs';

/** Acknowledges one AwsSolutions rule (or one `Rule[finding]`) on `scope` and everything under it. */
export function acknowledgeNagRule(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}

/** The wildcards of one grant: ARNs (tokens allowed) and actions that contain `*`. */
export interface GrantedWildcards {
  readonly resources?: readonly string[];
  readonly actions?: readonly string[];
}

/**
 * Acknowledges AwsSolutions-IAM5 for exactly these wildcard resources and actions, rendered as
 * cdk-nag renders them (`Resource::<LogBucket1234.Arn>/AWSLogs/*`), so any other wildcard that
 * appears later is still reported.
 */
export function acknowledgeWildcards(scope: IConstruct, wildcards: GrantedWildcards, reason: string): void {
  const stack = Stack.of(scope);
  for (const resource of wildcards.resources ?? []) {
    const rendered = flattenCfnReference(stack.resolve(resource));
    acknowledgeNagRule(scope, `AwsSolutions-IAM5[Resource::${rendered}]`, reason);
  }
  for (const action of wildcards.actions ?? []) {
    acknowledgeNagRule(scope, `AwsSolutions-IAM5[Action::${action}]`, reason);
  }
}
