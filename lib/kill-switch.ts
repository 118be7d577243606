/**
 * The kill switch: while the search cluster cannot take writes, the indexer's SQS event source is
 * disabled, so messages wait in the queue (they are not retried into the DLQ); once the cluster is
 * healthy again the event source is re-enabled and the backlog drains at `maxConcurrency`.
 *
 * Built as a Step Functions state machine with AWS SDK integrations rather than a Lambda: two API
 * calls and one decision need no code of their own, no bundle and no SDK dependency.
 *
 * @see https://docs.aws.amazon.com/lambda/latest/api/API_UpdateEventSourceMapping.html
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { acknowledgeWildcards } from './nag-acknowledgements';

/** The event source mapping the kill switch controls. */
export interface ControlledEventSource {
  readonly eventSourceMappingId: string;
  readonly eventSourceMappingArn: string;
}

/** Props of {@link IndexingKillSwitch}. */
export interface IndexingKillSwitchProps {
  readonly eventSource: ControlledEventSource;
  /**
   * A composite alarm: while it is in ALARM the event source is disabled; in any other state (or
   * when the alarm is gone) it is enabled.
   */
  readonly blockingAlarm: cloudwatch.IAlarm;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * Reacts to each state change of `blockingAlarm`. It reads the alarm's current state rather than
 * trusting the event, so executions that overlap or arrive out of order still converge on the
 * alarm's latest state.
 */
export class IndexingKillSwitch extends Construct {
  public readonly stateMachine: sfn.StateMachine;
  public readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: IndexingKillSwitchProps) {
    super(scope, id);
    const readAlarmState = tasks.CallAwsService.jsonPath(this, 'ReadAlarmState', {
      service: 'cloudwatch',
      action: 'describeAlarms',
      parameters: { AlarmNames: [props.blockingAlarm.alarmName], AlarmTypes: ['CompositeAlarm'] },
      iamAction: 'cloudwatch:DescribeAlarms',
      iamResources: [props.blockingAlarm.alarmArn],
      resultSelector: { 'states.$': '$.CompositeAlarms[*].StateValue' },
      resultPath: '$.alarm',
    });
    const setEnabled = (stateId: string, enabled: boolean) =>
      tasks.CallAwsService.jsonPath(this, stateId, {
        service: 'lambda',
        action: 'updateEventSourceMapping',
        parameters: { UUID: props.eventSource.eventSourceMappingId, Enabled: enabled },
        iamAction: 'lambda:UpdateEventSourceMapping',
        iamResources: [props.eventSource.eventSourceMappingArn],
        resultSelector: { 'state.$': '$.State' },
      }).addRetry({
        // An update is refused while the previous one is still being applied.
        errors: ['Lambda.ResourceInUseException', 'Lambda.TooManyRequestsException'],
        interval: Duration.seconds(5),
        backoffRate: 2,
        maxAttempts: 6,
      });
    const pause = setEnabled('PauseIndexing', false);
    const resume = setEnabled('ResumeIndexing', true);

    // Two choices because a Choice rule fails on a path that does not exist (a deleted alarm).
    const definition = readAlarmState.next(
      new sfn.Choice(this, 'AlarmFound?')
        .when(
          sfn.Condition.isPresent('$.alarm.states[0]'),
          new sfn.Choice(this, 'ClusterBlocked?')
            .when(sfn.Condition.stringEquals('$.alarm.states[0]', 'ALARM'), pause)
            .otherwise(resume),
        )
        .otherwise(resume),
    );

    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      comment: 'Pauses the indexer while the search cluster cannot take writes, resumes it after',
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      timeout: Duration.minutes(10),
      tracingEnabled: true,
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
    });
    acknowledgeWildcards(
      this.stateMachine,
      { resources: ['*'] },
      'CloudWatch Logs delivery and X-Ray trace APIs do not support resource-level permissions',
    );

    this.rule = new events.Rule(this, 'OnAlarmStateChange', {
      description: 'Runs the indexing kill switch on every state change of the blocking alarm',
      eventPattern: {
        source: ['aws.cloudwatch'],
        detailType: ['CloudWatch Alarm State Change'],
        resources: [props.blockingAlarm.alarmArn],
      },
      targets: [new targets.SfnStateMachine(this.stateMachine, { retryAttempts: 10 })],
    });
  }
}
