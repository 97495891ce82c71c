import type { APIGatewayProxyWithLambdaAuthorizerEvent } from "aws-lambda";
import type { AuthorizerContext } from "cognito-tenancy/lambda";

// Behind a REST Lambda authorizer: the context arrives as requestContext.authorizer.<key>.
// Lists are JSON strings (context values must be flat).
export async function handler(event: APIGatewayProxyWithLambdaAuthorizerEvent<AuthorizerContext>) {
  const { tenantId, sub } = event.requestContext.authorizer;
  const roles = JSON.parse(String(event.requestContext.authorizer["tenantRoles"])) as string[];
  return { statusCode: 200, body: JSON.stringify({ tenantId, sub, roles }) };
}
