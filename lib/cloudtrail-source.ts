/**
 * An optional CloudTrail trail writing to the log bucket: the classic CloudTrail → S3 → SQS setup,
 * or, for users who already consume CloudTrail's notifications, CloudTrail → SNS → SQS.
 *
 * @see https://docs.aws.amazon.com/awscloudtrail/latest/userguide/configure-sns-notifications-for-cloudtrail.html
 */
import * as cloudtrail from 'aws-cdk-lib/aws-cloudtrail';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** Props of {@link CloudTrailSource}. */
export interface CloudTrailSourceProps {
  /** A bucket whose policy this stack manages (CloudTrail needs statements in it). */
  readonly logBucket: s3.IBucket;
  /** Key prefix of the trail's objects, without slashes around it. */
  readonly s3KeyPrefix: string;
  /** @default true */
  readonly multiRegion?: boolean;
  /**
   * Subscribe this queue to a topic CloudTrail notifies of each delivered file.
   * @default - no topic: the bucket's event notifications announce the files
   */
  readonly notificationQueue?: sqs.IQueue;
}

/** The trail and, in SNS mode, its topic. */
export class CloudTrailSource extends Construct {
  public readonly trail: cloudtrail.Trail;
  /** Undefined unless a notification queue was given. */
  public readonly topic?: sns.Topic;

  constructor(scope: Construct, id: string, props: CloudTrailSourceProps) {
    super(scope, id);
    if (props.notificationQueue !== undefined) {
      this.topic = new sns.Topic(this, 'Topic', {
        displayName: 'CloudTrail log file deliveries',
        enforceSSL: true,
      });
      this.topic.addSubscription(new subscriptions.SqsSubscription(props.notificationQueue));
    }
    this.trail = new cloudtrail.Trail(this, 'Trail', {
      bucket: props.logBucket,
      s3KeyPrefix: props.s3KeyPrefix,
      isMultiRegionTrail: props.multiRegion ?? true,
      includeGlobalServiceEvents: true,
      enableFileValidation: true,
      ...(this.topic !== undefined && { snsTopic: this.topic }),
    });
  }
}
